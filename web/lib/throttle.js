// Render throttling: many messages per second may change a panel, but it is redrawn at most
// once per interval. Pure logic; the clock and timer are injectable so tests need no waiting.

/**
 * `createThrottle(fn, intervalMs)` returns `{call, flush, cancel, pending}`.
 *
 * `call()` runs `fn` at once when the last run is at least `intervalMs` ago (leading edge);
 * otherwise it schedules one trailing run at the end of the interval, and further calls in
 * the meantime coalesce into it (so the last state is always drawn). `flush()` runs a
 * scheduled call now; `cancel()` drops it.
 */
export function createThrottle(
  fn,
  intervalMs,
  {
    now = () => Date.now(),
    setTimer = (f, ms) => setTimeout(f, ms),
    clearTimer = (handle) => clearTimeout(handle)
  } = {}
) {
  let lastRun = -Infinity
  let timer = null

  const run = () => {
    timer = null
    lastRun = now()
    fn()
  }

  return {
    call() {
      if (timer !== null) return
      const wait = lastRun + intervalMs - now()
      if (wait <= 0) run()
      else timer = setTimer(run, wait)
    },
    flush() {
      if (timer === null) return
      clearTimer(timer)
      run()
    },
    cancel() {
      if (timer !== null) clearTimer(timer)
      timer = null
    },
    get pending() {
      return timer !== null
    }
  }
}
