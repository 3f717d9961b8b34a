/**
 * Every feature family, in frame column order. Add a family by appending its `FamilyDef` here.
 */
import type { FamilyDef } from "./family.js";

export const FAMILIES: readonly FamilyDef[] = [
  // @families (one import per family file, in Pointline's order)
];
