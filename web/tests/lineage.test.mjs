import assert from 'node:assert/strict'
import { test } from 'node:test'

import { ancestry, argmax, layoutLineage, rewardShade, thumbColumns } from '../lib/lineage.js'

// Three populations of 3: particle 2 of the last descends from 0 of the middle, which
// descends from 1 of the first.
const columns = [
  { population: 0, step: 1, parents: null, rewards: [0.1, 0.5, 0.2] },
  { population: 1, step: 2, parents: [1, 1, 2], rewards: [0.6, 0.55, 0.3] },
  { population: 2, step: 3, parents: [0, 2, 0], rewards: [0.7, 0.2, 0.9] }
]

test('argmax skips non-finite values', () => {
  assert.equal(argmax([null, 2, NaN, 3, -Infinity]), 3)
  assert.equal(argmax([null, undefined]), null)
  assert.equal(argmax([]), null)
})

test('ancestry follows parents back to the first column', () => {
  assert.deepEqual(ancestry(columns, 2), [1, 0, 2])
  assert.deepEqual(ancestry(columns, 1), [2, 2, 1])
})

test('ancestry stops where lineage is unknown', () => {
  const cols = [{ parents: null, rewards: [1, 2] }, { parents: null, rewards: [3, 4] }]
  const path = ancestry(cols, 1)
  assert.equal(path[1], 1)
  assert.equal(path[0], undefined)
})

test('ancestry ignores an out-of-range index', () => {
  assert.deepEqual([...ancestry(columns, 9)], [undefined, undefined, undefined])
})

test('layout: one dot per particle, one edge per known parent, winner path marked', () => {
  const { dots, edges, winner, rewardRange } = layoutLineage(columns, 120, 60, { margin: 0 })
  assert.equal(dots.length, 9)
  assert.equal(edges.length, 6)
  assert.equal(winner, 2)
  assert.deepEqual(rewardRange, [0.1, 0.9])
  const onPath = dots.filter((d) => d.onPath).map((d) => [d.column, d.index])
  assert.deepEqual(onPath, [[0, 1], [1, 0], [2, 2]])
  assert.equal(edges.filter((e) => e.onPath).length, 2)
  assert.equal(dots.filter((d) => d.winner).length, 1)
  // columns spread over the width, particles over the height (centred in their rows)
  assert.deepEqual([...new Set(dots.map((d) => d.x))], [0, 60, 120])
  assert.deepEqual(dots.filter((d) => d.column === 0).map((d) => d.y), [10, 30, 50])
  // an edge goes from the parent's dot to the child's dot
  const e = edges.find((e) => e.onPath && e.x2 === 120)
  assert.deepEqual([e.x1, e.y1, e.x2, e.y2], [60, 10, 120, 50])
})

test('layout handles populations of different sizes (search over paths)', () => {
  const cols = [
    { parents: null, rewards: [1, 2] },
    { parents: [0, 0, 1, 1], rewards: [1, 3, 2, 0] },
    { parents: [1, 2], rewards: [3, 2.5] }
  ]
  const { dots, edges } = layoutLineage(cols, 100, 80, { margin: 0 })
  assert.equal(dots.length, 8)
  assert.equal(edges.length, 6)
  const child = dots.find((d) => d.column === 2 && d.index === 0)
  const edge = edges.find((e) => e.x2 === child.x && e.y2 === child.y)
  assert.equal(edge.y1, 30) // parent 1 of 4 rows in 80 px: (1 + 0.5) * 20
})

test('layout ignores invalid parent indices and honours a given winner', () => {
  const cols = [{ parents: null, rewards: [1, 2] }, { parents: [5, -1], rewards: [0, 1] }]
  const { edges, winner, dots } = layoutLineage(cols, 10, 10, { winner: 0 })
  assert.equal(edges.length, 0)
  assert.equal(winner, 0)
  assert.ok(dots.find((d) => d.column === 1 && d.index === 0).winner)
})

test('layout of nothing is empty; a single column is centred', () => {
  assert.deepEqual(layoutLineage([], 10, 10), { dots: [], edges: [], winner: null, rewardRange: null })
  const { dots } = layoutLineage([{ parents: null, rewards: [1] }], 100, 10, { margin: 0 })
  assert.equal(dots[0].x, 50)
})

test('rewardShade maps rewards into [0, 1]', () => {
  assert.equal(rewardShade(5, [0, 10]), 0.5)
  assert.equal(rewardShade(20, [0, 10]), 1)
  assert.equal(rewardShade(-1, [0, 10]), 0)
  assert.equal(rewardShade(null, [0, 10]), 0.5)
  assert.equal(rewardShade(3, [3, 3]), 0.5)
})

test('thumbnail grid columns: at most 8, rows evenly filled', () => {
  assert.equal(thumbColumns(0), 1)
  assert.equal(thumbColumns(4), 4)
  assert.equal(thumbColumns(8), 8)
  assert.equal(thumbColumns(9), 5) // 5 + 4, not 8 + 1
  assert.equal(thumbColumns(16), 8)
  assert.equal(thumbColumns(12, 8), 6)
})
