// Finding the node a message is about. Messages name nodes by ComfyUI execution id: the
// node's id in the root graph, or "a:b:c" for node c inside subgraph node b inside subgraph
// node a. Pure logic over any object with `getNodeById` (litegraph's LGraph / Subgraph).

/** The node with execution id `executionId` under `rootGraph`, or null. */
export function nodeByExecutionId(rootGraph, executionId) {
  if (!rootGraph || executionId === null || executionId === undefined) return null
  const path = String(executionId).split(':')
  let graph = rootGraph
  for (let i = 0; i < path.length - 1; i++) {
    const holder = graph.getNodeById(path[i])
    if (!holder?.subgraph) return null
    graph = holder.subgraph
  }
  return graph.getNodeById(path[path.length - 1]) ?? null
}

/** The control route's request body for `action` ("stop" or "pick") on a panel's search. */
export function controlBody(state, action, { batch = 0, population = null, index = null } = {}) {
  const body = { prompt_id: state.promptId, node_id: state.nodeId, action }
  if (action === 'pick') Object.assign(body, { batch, population, index })
  return body
}

/** A one-line message for a failed control request (`status` HTTP code, parsed `body`). */
export function controlErrorText(status, body) {
  const reason = body && typeof body.error === 'string' ? body.error : null
  if (reason) return reason
  if (status === 404) return 'This search is not running on the server (finished or unknown).'
  if (status === 409) return 'This search has already finished.'
  return `The server refused the request (HTTP ${status}).`
}
