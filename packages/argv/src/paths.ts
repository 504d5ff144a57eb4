/**
 * Paths handed to QEMU's block layer (`-drive file=`, `-pflash`): QEMU reads `proto:rest` as a protocol
 * prefix (`nbd:`, `json:{...}`) when a colon comes before any slash. A relative path such as `a:b.img`
 * would be opened through a protocol driver (or `json:` could inject a whole block graph), so such paths
 * get a `./` prefix, which names the same file.
 */
export function blockFilename(path: string): string {
  const stop = path.search(/[:/\\]/);
  return stop >= 0 && path[stop] === ':' ? `./${path}` : path;
}
