//! The keys a request is verified with: those read with the configuration, those of key files
//! named with variables and those fetched by subrequests, joined once per combination of their
//! versions.

use core::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use auth_core::jwt::Policy;
use auth_core::keys::Key;

use super::JwtConf;
use crate::file_cache::next_generation;

/// More combinations than this and the worker forgets them all.
const MAX_SETS: usize = 256;

pub struct KeySet {
    pub keys: Vec<Key>,
    pub policy: Policy,
    /// Differs for every set joined; tokens verified with one set are not taken for another.
    pub generation: u64,
}

/// Keys from one version of one source.
pub struct Part<'a> {
    pub keys: &'a [Key],
    pub generation: u64,
}

/// Per worker, by location and the versions of the parts.
#[derive(Default)]
pub struct KeySets(RefCell<HashMap<Box<[u8]>, Rc<KeySet>>>);

impl KeySets {
    /// The keys of the location's key files and of `parts`, with the policy they imply.
    pub fn join(&self, jcf: &JwtConf, parts: &[Part]) -> Rc<KeySet> {
        let mut id = Vec::with_capacity(8 * (parts.len() + 1));
        id.extend_from_slice(&(jcf as *const JwtConf as usize).to_le_bytes());
        for part in parts {
            id.extend_from_slice(&part.generation.to_le_bytes());
        }
        if let Some(set) = self.0.borrow().get(id.as_slice()) {
            return set.clone();
        }

        let mut keys = jcf.keys().to_vec();
        for part in parts {
            keys.extend_from_slice(part.keys);
        }
        let set = Rc::new(KeySet {
            policy: jcf.policy_for(&keys),
            keys,
            generation: next_generation(),
        });
        let mut sets = self.0.borrow_mut();
        if sets.len() >= MAX_SETS {
            sets.clear();
        }
        sets.insert(id.into(), set.clone());
        set
    }
}
