import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  describeEvents,
  formatDuration,
  formatReward,
  liveRate,
  methodLabel,
  moreNfeCost,
  secondsPer100Nfe,
  timingSplit
} from '../lib/format.js'

test('durations', () => {
  assert.equal(formatDuration(0.4234), '0.42 s')
  assert.equal(formatDuration(4.26), '4.3 s')
  assert.equal(formatDuration(12.4), '12 s')
  assert.equal(formatDuration(200), '3 min 20 s')
  assert.equal(formatDuration(180), '3 min')
  assert.equal(formatDuration(3900), '1 h 05 min')
  assert.equal(formatDuration(null), '–')
  assert.equal(formatDuration(-1), '–')
})

test('rewards', () => {
  assert.equal(formatReward(0.92512), '0.925')
  assert.equal(formatReward(-12.44), '-12.4')
  assert.equal(formatReward(12345), '1.23e+4')
  assert.equal(formatReward(0), '0')
  assert.equal(formatReward(null), '–')
  assert.equal(formatReward(NaN), '–')
})

test('seconds per 100 NFE and the cost of more NFEs', () => {
  assert.equal(secondsPer100Nfe(12, 300), 4)
  assert.equal(secondsPer100Nfe(12, 0), null)
  const cost = moreNfeCost(4, 250)
  assert.equal(cost.seconds, 10)
  assert.equal(cost.text, '+250 NFE ≈ 10 s')
  assert.equal(moreNfeCost(null, 100).seconds, null)
  assert.equal(moreNfeCost(4, -3).extra, 0)
  assert.equal(moreNfeCost(4, '50').seconds, 2)
})

test('live rate needs a few NFEs and some time', () => {
  assert.equal(liveRate({ nfeUsed: 2, elapsed: 1 }), null)
  assert.equal(liveRate({ nfeUsed: 40, elapsed: 0 }), null)
  assert.equal(liveRate({ nfeUsed: 50, elapsed: 2 }), 4)
  assert.equal(liveRate(null), null)
})

test('timing split as shares of the total', () => {
  const split = timingSplit({ model: 3, decode: 0.5, verifier: 1, overhead: 0.5, total: 5 })
  assert.deepEqual(split.map((p) => p.name), ['model', 'decode', 'verifier', 'overhead'])
  assert.equal(split[0].share, 0.6)
  assert.deepEqual(timingSplit({}), [])
  assert.deepEqual(timingSplit({ model: 2 }).map((p) => p.share), [1])
})

test('method events in words', () => {
  assert.equal(describeEvents({ ess: 5.234, resampled: true }), 'ESS 5.23 · resampled')
  assert.equal(describeEvents({ accepted: 3, rolled_over: 4, quota: 10 }), 'accepted #3 · +4 NFE rolled over · quota 10')
  assert.equal(describeEvents({ accepted: null }), 'no improvement')
  assert.equal(describeEvents({ neighbours: 4, restarted: true, held_out: 0.3 }), 'neighbours 4 · restarted')
  assert.equal(describeEvents(null), '')
  assert.equal(methodLabel('rbf'), 'RBF')
  assert.equal(methodLabel('custom'), 'custom')
  assert.equal(methodLabel(null), 'search')
})
