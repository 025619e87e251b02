// While a call applies a run's steps (one transaction each), the run's progress is read every 400 ms so the
// page shows each step as it commits; a failed read (the server restarting) is ignored.
import { useEffect } from 'react';
import { type Run, getRun } from './api';

export function useRunPolling(runId: string | undefined, active: boolean, onRun: (r: Run) => void): void {
  useEffect(() => {
    if (!runId || !active) return;
    let stopped = false;
    const tick = async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, 400));
        if (stopped) return;
        try {
          const run = await getRun(runId);
          if (!stopped) onRun(run);
        } catch {
          // not started yet, or the server is away: the apply call's answer says what happened
        }
      }
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, [runId, active]);
}
