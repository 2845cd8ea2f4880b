// Test order for 2 jest workers: the chaos file first (it is the longest: on a fresh clone, without
// cached timings, jest would start it last and stretch the run), then the unit and integration files on
// the other worker while it runs, and the end-to-end files last, so the heaviest ones (each a whole
// system with worker processes and real pods) do not all run at once on a small machine.
const Sequencer = require("@jest/test-sequencer").default;

const rank = (test) => {
  if (/\/test\/chaos\//.test(test.path)) return 0;
  if (/\/test\/e2e\//.test(test.path)) return 2;
  return 1;
};

class SlowFirstSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFirstSequencer;
