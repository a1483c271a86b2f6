import { describe, expect, it } from 'vitest';
import { processInterrupts, SIGNAL_EXIT } from './gameday-command.js';

describe('interrupts', () => {
  it('the first signal aborts every wait; a second says what is still being reverted; each signal has its exit code', () => {
    const said: string[] = [];
    const interrupts = processInterrupts((text) => said.push(text));
    try {
      process.emit('SIGHUP');
      interrupts.reverting(['control-plane-partition', 'ca-loss']);
      process.emit('SIGINT');

      expect(interrupts.reason()).toBe('SIGHUP');
      expect(interrupts.signal.aborted).toBe(true);
      expect(said).toEqual([
        'meshdrill: SIGHUP: reverting every fault, then stopping\n',
        'meshdrill: still reverting: control-plane-partition, ca-loss; the journal keeps what is left for `meshdrill cleanup` if this process is killed\n',
      ]);
      expect(SIGNAL_EXIT).toEqual({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 });
    } finally {
      interrupts.dispose();
    }
  });
});
