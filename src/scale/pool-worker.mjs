// Piscina worker entry: registers tsx's loader in this worker thread (workers do not inherit a
// programmatic registration, see engine/load-worker.mjs), then exports the TypeScript task function.
import { register } from "tsx/esm/api";

register();
const mod = await import("./pool-worker.ts");
export default mod.default;
