import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `quit`: Terminate QEMU at once (the reply races EOF; the client treats the close as a normal shutdown). */
export const quit = defineCommand({
  name: 'quit',
  summary: 'Terminate QEMU at once (the reply races EOF; the client treats the close as a normal shutdown).',
  args: undefined,
  reply: emptyReply,
});
