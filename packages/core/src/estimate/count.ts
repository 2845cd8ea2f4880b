import type { ModelChat } from "./model-files";
import type { RenderedRow } from "./render";

/**
 * One rendered row as the trainer tokenizes it (ml/data.py build_examples): the tokenizer without special tokens
 * added, the ids cut to max_seq_length, labels on the assistant turns only (completion_only_loss) or on every token,
 * and a row whose cut leaves no label skipped (real_tokenize.py).
 */
export interface RowCount {
  /** the row's tokens before the cut */
  tokens: number;
  /** the tokens trained on: min(tokens, max_seq_length) */
  kept: number;
  /** the kept tokens that carry loss */
  loss: number;
  /** the row has a token to train on (else the trainer skips it) */
  trained: boolean;
}

function encode(chat: ModelChat, text: string): number {
  return text.length === 0 ? 0 : chat.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
}

/**
 * Tokens whose start lies in an assistant span, among the first `kept`. The trainer reads it from the fast
 * tokenizer's offsets, which tokenizers.js does not give: the text is tokenized in pieces cut at the spans' edges
 * (the edges of a chat template's turns are its special tokens, where tokenizers split anyway). When the pieces'
 * tokens add up to the whole's, each token is in one piece and the count is the trainer's; when they do not (an edge
 * inside a word), the share of the pieces is applied to the kept tokens.
 */
function lossTokens(chat: ModelChat, r: RenderedRow, total: number, kept: number): number {
  if (r.spans === null) return kept;
  const pieces: Array<{ n: number; loss: boolean }> = [];
  let at = 0;
  for (const [s, e] of r.spans) {
    if (s > at) pieces.push({ n: encode(chat, r.text.slice(at, s)), loss: false });
    if (e > s) pieces.push({ n: encode(chat, r.text.slice(Math.max(s, at), e)), loss: true });
    at = Math.max(at, e);
  }
  if (at < r.text.length) pieces.push({ n: encode(chat, r.text.slice(at)), loss: false });
  const sum = pieces.reduce((a, p) => a + p.n, 0);
  if (sum === total) {
    let loss = 0;
    let start = 0;
    for (const p of pieces) {
      if (p.loss) loss += Math.max(0, Math.min(start + p.n, kept) - start);
      start += p.n;
    }
    return loss;
  }
  const share = sum === 0 ? 0 : pieces.filter((p) => p.loss).reduce((a, p) => a + p.n, 0) / sum;
  return Math.round(share * kept);
}

export function countRow(
  chat: ModelChat,
  rendered: RenderedRow,
  maxSeqLength: number,
  completionOnly: boolean,
): RowCount {
  const tokens = encode(chat, rendered.text);
  const kept = Math.min(tokens, maxSeqLength);
  const loss = completionOnly ? lossTokens(chat, rendered, tokens, kept) : kept;
  return { tokens, kept, loss, trained: loss > 0 };
}
