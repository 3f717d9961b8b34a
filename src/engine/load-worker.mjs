// Worker entry: registers tsx's loader in this thread (workers do not inherit a programmatic
// registration), then runs the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./load-worker.ts");
