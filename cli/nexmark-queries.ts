/** The Nexmark queries `riffle nexmark run` knows (a module of its own: the CLI lists them without loading Nexmark). */

/** Queries riffle implements (q12 uses processing time and has no oracle). */
export const NEXMARK_QUERIES = [
  "q0",
  "q1",
  "q2",
  "q3",
  "q4",
  "q5",
  "q7",
  "q8",
  "q9",
  "q11",
  "q12",
  "q14",
  "q15",
  "q17",
  "q18",
  "q19",
];
