// Runs the longest test files first (the chaos run, then the end-to-end ones), so on a fresh clone,
// where jest has no timings cached, they do not start last and stretch the run; the rest keep jest's order.
const Sequencer = require("@jest/test-sequencer").default;

const SLOW = [/\/test\/chaos\//, /\/test\/e2e\//];
const rank = (test) => {
  const i = SLOW.findIndex((re) => re.test(test.path));
  return i === -1 ? SLOW.length : i;
};

class SlowFirstSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFirstSequencer;
