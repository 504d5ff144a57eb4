export const PACKAGE = '@vmm/guest';
