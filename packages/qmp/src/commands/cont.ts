import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `cont`: Resume the VM (also starts a VM created with `-S`). */
export const cont = defineCommand({
  name: 'cont',
  summary: 'Resume the VM (also starts a VM created with `-S`).',
  args: undefined,
  reply: emptyReply,
});
