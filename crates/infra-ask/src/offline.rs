//! The offline interpreter: the grammar in `grammar/`, no network. It resolves
//! every reference against the loaded spec and declines, with suggestions,
//! whatever it cannot ground; it never guesses a destructive change.

use async_trait::async_trait;

use super::grammar::world::World;
use super::grammar::Grammar;
use super::intent::Intent;
use super::interpreter::{Interpreter, Request};
use super::router::Router;
use infra_capability::Library;
use infra_core::error::Error;

pub struct Offline<'a> {
    pub library: &'a Library,
    pub router: &'a Router,
    pub world: World,
}

#[async_trait]
impl Interpreter for Offline<'_> {
    fn name(&self) -> String {
        "offline".into()
    }

    async fn interpret(&self, req: &Request) -> Result<Intent, Error> {
        self.understand(&req.text)
    }
}

impl Offline<'_> {
    pub fn understand(&self, text: &str) -> Result<Intent, Error> {
        Grammar {
            world: &self.world,
            library: self.library,
            router: self.router,
        }
        .understand(text)
    }
}
