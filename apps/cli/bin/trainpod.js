#!/usr/bin/env node
"use strict";
// The compiled CLI when built (npm run build), else the TypeScript source through tsx.
const fs = require("node:fs");
const path = require("node:path");

const built = path.join(__dirname, "..", "dist", "main.js");
if (fs.existsSync(built)) {
  require(built);
} else {
  require("tsx/cjs");
  require("../src/main.ts");
}
