// Test order for 2 jest workers: the chaos file first (it is the longest: on a fresh clone, without
// cached timings, jest would start it last and stretch the run), then the unit and integration files on
// the other worker while it runs, and the end-to-end files last, so the heaviest ones (each a whole
// system with worker processes and real pods) do not all run at once on a small machine. The pod agent's and
// the real trainer's tests (torch on the CPU: they take every core for a minute) come last of all, once the chaos file is done,
// whose cost checks are timing-sensitive.
const Sequencer = require("@jest/test-sequencer").default;

const rank = (test) => {
  if (/\/pod-agent\/agent\.int\.test\.ts$|\/test\/e2e\/real-trainer\.test\.ts$/.test(test.path)) return 3;
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
