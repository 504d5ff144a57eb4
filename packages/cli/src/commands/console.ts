import type { Command } from '../command.js';
import { attach, positional, STATE_DIR_FLAG, STATE_DIR_USAGE } from '../sandbox-common.js';

/** `vmm console <id>`: the guest console, from its first byte. */
export const command: Command = {
  name: 'console',
  summary:
    "print a sandbox's console from the first byte; --follow keeps printing, --input sends stdin to it",
  usage: `<id> [--follow] [--input] [--state-dir <dir>]

  --follow           keep printing new output until Ctrl-C or the VM exits
  --input            also send stdin to the console (implies --follow)
${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG, follow: { type: 'boolean', short: 'f' }, input: { type: 'boolean' } },
  allowPositionals: true,
  async run(ctx) {
    const id = positional(ctx, 'console', 0, 'id');
    const sb = await attach(ctx, id);
    const con = sb.console();
    const input = ctx.values.input === true;
    if (ctx.values.follow !== true && !input) {
      ctx.io.stdout.write(await con.read());
      return 0;
    }
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    ctx.signal.addEventListener('abort', stop, { once: true });
    void sb.exited.then(stop);
    let socket: Awaited<ReturnType<typeof con.connect>> | undefined;
    try {
      if (input) {
        socket = await con.connect({ signal: ctx.signal });
        socket.resume(); // output is read from the log; drain the socket so QEMU never blocks
        ctx.io.stdin.pipe(socket);
      }
      for await (const line of con.lines({ signal: ac.signal })) ctx.io.stdout.write(`${line}\n`);
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      if (socket !== undefined) {
        ctx.io.stdin.unpipe(socket);
        socket.destroy();
      }
    }
    return 0;
  },
};
