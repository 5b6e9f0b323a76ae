// The one importer of age-encryption (typage, the TypeScript age by the format's author). It is loaded on first use
// only: parsing it and its @noble/* dependencies (post-quantum ML-KEM included) costs ~80-120 ms from the sources,
// which no command that does not encrypt or decrypt should pay. A literal specifier lets `bun build --splitting`
// put it in a chunk of its own that the binary evaluates only when this runs.
type AgeLibrary = typeof import("age-encryption");

let loading: Promise<AgeLibrary> | undefined;

export function loadAge(): Promise<AgeLibrary> {
  loading ??= import("age-encryption");
  return loading;
}
