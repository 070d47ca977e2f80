import assert from 'node:assert/strict'
import { test } from 'node:test'

import { createThrottle } from '../lib/throttle.js'

function fakeClock() {
  let t = 0
  const timers = []
  return {
    now: () => t,
    setTimer: (f, ms) => {
      const handle = { f, at: t + ms, live: true }
      timers.push(handle)
      return handle
    },
    clearTimer: (h) => {
      h.live = false
    },
    advance(ms) {
      t += ms
      for (const h of timers) {
        if (h.live && h.at <= t) {
          h.live = false
          h.f()
        }
      }
    }
  }
}

test('leading call runs at once; calls inside the interval coalesce into one trailing run', () => {
  const clock = fakeClock()
  let runs = 0
  const th = createThrottle(() => runs++, 100, clock)
  th.call()
  assert.equal(runs, 1)
  for (let i = 0; i < 50; i++) {
    clock.advance(1)
    th.call()
  }
  assert.equal(runs, 1)
  assert.equal(th.pending, true)
  clock.advance(49)
  assert.equal(runs, 1) // t = 99: still inside the interval
  clock.advance(1)
  assert.equal(runs, 2) // trailing run at t = 100
  assert.equal(th.pending, false)
})

test('rate: a burst of 1000 calls over 1 s runs at most 11 times', () => {
  const clock = fakeClock()
  let runs = 0
  const th = createThrottle(() => runs++, 100, clock)
  for (let i = 0; i < 1000; i++) {
    th.call()
    clock.advance(1)
  }
  clock.advance(100)
  assert.ok(runs >= 10 && runs <= 11, `runs=${runs}`)
})

test('flush runs a pending call now; cancel drops it', () => {
  const clock = fakeClock()
  let runs = 0
  const th = createThrottle(() => runs++, 100, clock)
  th.call()
  th.call()
  th.flush()
  assert.equal(runs, 2)
  th.call()
  th.cancel()
  clock.advance(500)
  assert.equal(runs, 2)
  th.flush() // nothing pending: no run
  assert.equal(runs, 2)
})

test('after a quiet interval the next call is immediate again', () => {
  const clock = fakeClock()
  let runs = 0
  const th = createThrottle(() => runs++, 100, clock)
  th.call()
  clock.advance(250)
  th.call()
  assert.equal(runs, 2)
})
