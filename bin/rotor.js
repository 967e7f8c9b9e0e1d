#!/usr/bin/env node
// The rotor command. Rotor is written in TypeScript; tsx compiles it on load so `npx rotor` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
