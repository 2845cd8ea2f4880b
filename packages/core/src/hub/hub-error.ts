/**
 * What a Hugging Face hub answer means, decided as huggingface_hub's own `hf_raise_for_status` decides it
 * (utils/_http.py): the `X-Error-Code` header first (RevisionNotFound, EntryNotFound, GatedRepo, RepoNotFound), then
 * the status. The hub answers 401 for a private or missing repo asked without a token (RepoNotFound) and for a gated
 * repo's files asked without one (GatedRepo); 403 GatedRepo for a token not on the repo's authorized list; 404 for a
 * repo a valid token cannot see; 401 without a code for a token it does not know.
 */
export type HubFailureKind =
  /** no such repo, or a private one this caller cannot see */
  | "not_found"
  /** a gated repo's files asked without a token */
  | "gated_no_token"
  /** a token the repo (gated or private) does not let in */
  | "no_access"
  /** the hub refused the token itself (unknown, revoked or expired) */
  | "bad_token"
  | "revision_not_found"
  | "entry_not_found"
  /** network error, timeout, 429, 5xx or an answer we cannot read: not the user's fault */
  | "unavailable";

export class HubError extends Error {
  constructor(
    readonly kind: HubFailureKind,
    message: string,
    /** the HTTP status, when the hub answered */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = "HubError";
  }
}

/** The failure a non-2xx answer means (see above). `withToken`: the request carried an Authorization header. */
export function classifyHubAnswer(status: number, errorCode: string | null, withToken: boolean): HubFailureKind {
  switch (errorCode) {
    case "RevisionNotFound":
      return "revision_not_found";
    case "EntryNotFound":
      return "entry_not_found";
    case "GatedRepo":
      return withToken ? "no_access" : "gated_no_token";
    case "RepoNotFound":
      return "not_found";
  }
  if (status === 401) return withToken ? "bad_token" : "not_found";
  if (status === 403) return "no_access";
  if (status === 404) return "not_found";
  return "unavailable";
}
