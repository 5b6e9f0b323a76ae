// Worker entry points by URL. Computed here, at the root of src/, because the compiled binary puts every bundled
// chunk at its root: a URL relative to a module deeper down would point outside the bundle there. build/compile.ts
// passes each of these files as an entry point of its own.
export const OUTPUT_WORKER_URL = new URL("./backup/output-worker.ts", import.meta.url).href;
