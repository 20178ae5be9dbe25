#!/usr/bin/env node
// The flux executable: hands argv to the CLI and turns its answer into the exit code.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
