/** Piscina worker body: one multi-symbol task per call (see scale/task.ts). */
import { runSymbolTask, type SymbolTask, type SymbolTaskResult } from "./task.js";

export default function run(task: SymbolTask): Promise<SymbolTaskResult> {
  return runSymbolTask(task);
}
