//! Git as the state history. The only module that names git2.
