//! Apply: walk the plan's dependency graph, run provider calls in parallel,
//! journal every finished operation, and hold the project lock meanwhile.
