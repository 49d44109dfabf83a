//! manatee's state machine rules (ha-core.md §2, manatee-state-machine's
//! `lib/manatee-peer.js`) as pure functions of the state and the election
//! list: which role a peer has, and the new states a sitter declares.

use super::state::{ClusterState, Peer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// No state yet: initial setup has not happened.
    NoState,
    Primary,
    Sync,
    /// `async[i]`.
    Async,
    /// A former primary, out of service until rebuilt or reaped.
    Deposed,
    /// Present but not in the state (ONWM followers, peers not yet added).
    Unassigned,
}

pub fn role_of(me: &str, state: Option<&ClusterState>) -> Role {
    let Some(s) = state else {
        return Role::NoState;
    };
    if s.primary.id == me {
        Role::Primary
    } else if s.sync.as_ref().is_some_and(|p| p.id == me) {
        Role::Sync
    } else if s.r#async.iter().any(|p| p.id == me) {
        Role::Async
    } else if s.deposed.iter().any(|p| p.id == me) {
        Role::Deposed
    } else {
        Role::Unassigned
    }
}

fn present(actives: &[Peer], id: &str) -> bool {
    actives.iter().any(|p| p.id == id)
}

/// Initial setup (§2.2): only by the peer that sorts first, with no data of
/// its own, and another peer present unless it is in one-node-write mode.
pub fn initial_setup(
    me: &Peer,
    actives: &[Peer],
    has_data: bool,
    onwm: bool,
    now: &str,
) -> Option<ClusterState> {
    if has_data || actives.first().map(|p| p.id.as_str()) != Some(me.id.as_str()) {
        return None;
    }
    let others: Vec<Peer> = actives.iter().skip(1).cloned().collect();
    let mut state = ClusterState {
        generation: 1,
        primary: me.clone(),
        sync: None,
        r#async: Vec::new(),
        deposed: Vec::new(),
        init_wal: "0/00000000".into(),
        freeze: None,
        one_node_write_mode: None,
        promote: None,
        setup_order: true,
    };
    if onwm {
        state.one_node_write_mode = Some(true);
        state.freeze = Some(serde_json::json!({
            "date": now,
            "reason": "manatee setup: one node write mode",
        }));
        return Some(state);
    }
    let (sync, asyncs) = others.split_first()?;
    state.sync = Some(sync.clone());
    state.r#async = asyncs.to_vec();
    Some(state)
}

/// The sync's takeover when the primary's election node is gone (§2.3),
/// given the sync's replay position; None when no async is present.
pub fn takeover(s: &ClusterState, actives: &[Peer], init_wal: &str) -> Option<ClusterState> {
    let me = s.sync.as_ref()?;
    let mut asyncs = s
        .r#async
        .iter()
        .filter(|p| present(actives, &p.id))
        .cloned();
    let sync = asyncs.next()?;
    let mut deposed = s.deposed.clone();
    deposed.push(s.primary.clone());
    Some(ClusterState {
        generation: s.generation + 1,
        primary: me.clone(),
        sync: Some(sync),
        r#async: asyncs.collect(),
        deposed,
        init_wal: init_wal.to_string(),
        freeze: None,
        one_node_write_mode: None,
        promote: None,
        setup_order: false,
    })
}

/// The primary's new sync when its sync's node is gone (§2.4): the first
/// present async; the old sync is dropped, not deposed.
pub fn replace_sync(s: &ClusterState, actives: &[Peer], init_wal: &str) -> Option<ClusterState> {
    let mut asyncs = s
        .r#async
        .iter()
        .filter(|p| present(actives, &p.id))
        .cloned();
    let sync = asyncs.next()?;
    Some(ClusterState {
        generation: s.generation + 1,
        sync: Some(sync),
        r#async: asyncs.collect(),
        init_wal: init_wal.to_string(),
        setup_order: false,
        ..s.clone()
    })
}

/// The primary's async upkeep (§2.4): absent asyncs leave, new peers join
/// at the tail; generation, initWal and freeze stay. None when unchanged.
pub fn maintain_asyncs(s: &ClusterState, actives: &[Peer]) -> Option<ClusterState> {
    let known = |id: &str| {
        s.primary.id == id
            || s.sync.as_ref().is_some_and(|p| p.id == id)
            || s.r#async.iter().any(|p| p.id == id)
            || s.deposed.iter().any(|p| p.id == id)
    };
    let mut asyncs: Vec<Peer> = s
        .r#async
        .iter()
        .filter(|p| present(actives, &p.id))
        .cloned()
        .collect();
    asyncs.extend(actives.iter().filter(|p| !known(&p.id)).cloned());
    (asyncs != s.r#async).then(|| ClusterState {
        r#async: asyncs,
        ..s.clone()
    })
}

/// The ONWM primary, configured for normal mode again, with another peer
/// present: G+1 with a sync and asyncs from the present peers
/// (`startTransitionToNormalMode`, §2.9).
pub fn leave_onwm(s: &ClusterState, actives: &[Peer], init_wal: &str) -> Option<ClusterState> {
    let mut others = actives.iter().filter(|p| p.id != s.primary.id).cloned();
    let sync = others.next()?;
    Some(ClusterState {
        generation: s.generation + 1,
        primary: s.primary.clone(),
        sync: Some(sync),
        r#async: others.collect(),
        deposed: Vec::new(),
        init_wal: init_wal.to_string(),
        freeze: None,
        one_node_write_mode: None,
        promote: None,
        setup_order: false,
    })
}

/// Whether the primary's sync has left the election.
pub fn sync_gone(s: &ClusterState, actives: &[Peer]) -> bool {
    s.sync.as_ref().is_some_and(|p| !present(actives, &p.id))
}

/// Whether the primary has left the election.
pub fn primary_gone(s: &ClusterState, actives: &[Peer]) -> bool {
    !present(actives, &s.primary.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> Peer {
        Peer::new(&format!("127.0.0.{n}"), &format!("zone-{n}"))
    }

    fn normal() -> ClusterState {
        let actives = [peer(11), peer(12), peer(13)];
        initial_setup(&peer(11), &actives, false, false, "now").expect("setup")
    }

    #[test]
    fn the_first_peer_sets_up_primary_sync_and_async_in_manatees_order() {
        let s = normal();
        assert_eq!(s.generation, 1);
        assert_eq!(s.primary.id, "127.0.0.11:5432:12345");
        assert_eq!(s.sync.as_ref().map(|p| p.ip.as_str()), Some("127.0.0.12"));
        assert_eq!(s.r#async.len(), 1);
        assert!(s.to_json().starts_with(
            r#"{"generation":1,"primary":{"id":"127.0.0.11:5432:12345","ip":"127.0.0.11","pgUrl":"#
        ));
        assert!(
            s.to_json()
                .contains(r#""initWal":"0/00000000","deposed":[],"sync":{"id""#)
        );
        // Only the first, only without data, never alone unless ONWM.
        assert!(initial_setup(&peer(12), &[peer(11), peer(12)], false, false, "now").is_none());
        assert!(initial_setup(&peer(11), &[peer(11), peer(12)], true, false, "now").is_none());
        assert!(initial_setup(&peer(11), &[peer(11)], false, false, "now").is_none());
        let onwm = initial_setup(&peer(11), &[peer(11)], false, true, "now").expect("onwm");
        assert!(onwm.onwm() && onwm.is_frozen() && onwm.sync.is_none());
    }

    #[test]
    fn the_sync_takes_over_only_with_an_async_present() {
        let s = normal();
        let actives = [peer(12), peer(13)];
        assert!(primary_gone(&s, &actives));
        let t = takeover(&s, &actives, "0/3000060").expect("takeover");
        assert_eq!(t.generation, 2);
        assert_eq!(t.primary.id, peer(12).id);
        assert_eq!(t.sync.as_ref().map(|p| p.id.clone()), Some(peer(13).id));
        assert!(t.r#async.is_empty());
        assert_eq!(t.deposed, vec![peer(11)]);
        assert_eq!(t.init_wal, "0/3000060");
        assert!(takeover(&s, &[peer(12)], "0/1").is_none());
    }

    #[test]
    fn the_primary_replaces_a_lost_sync_and_keeps_its_asyncs() {
        let s = normal();
        let actives = [peer(11), peer(13), peer(14)];
        assert!(sync_gone(&s, &actives));
        let r = replace_sync(&s, &actives, "0/5").expect("new sync");
        assert_eq!(r.generation, 2);
        assert_eq!(r.sync.as_ref().map(|p| p.id.clone()), Some(peer(13).id));
        assert!(r.deposed.is_empty());
        let m = maintain_asyncs(&r, &actives).expect("peer 14 joins");
        assert_eq!(m.generation, 2);
        assert_eq!(m.r#async, vec![peer(14)]);
        assert!(maintain_asyncs(&m, &actives).is_none());
    }

    #[test]
    fn an_onwm_primary_in_normal_mode_again_takes_a_sync() {
        let onwm = initial_setup(&peer(11), &[peer(11)], false, true, "now").expect("onwm");
        assert!(leave_onwm(&onwm, &[peer(11)], "0/1").is_none());
        let s = leave_onwm(&onwm, &[peer(11), peer(12), peer(13)], "0/9").expect("normal");
        assert_eq!(s.generation, 2);
        assert_eq!(s.sync, Some(peer(12)));
        assert_eq!(s.r#async, vec![peer(13)]);
        assert!(!s.onwm() && !s.is_frozen());
    }

    #[test]
    fn roles_come_from_the_state() {
        let s = normal();
        assert_eq!(role_of(&peer(11).id, Some(&s)), Role::Primary);
        assert_eq!(role_of(&peer(12).id, Some(&s)), Role::Sync);
        assert_eq!(role_of(&peer(13).id, Some(&s)), Role::Async);
        assert_eq!(role_of(&peer(14).id, Some(&s)), Role::Unassigned);
        assert_eq!(role_of(&peer(14).id, None), Role::NoState);
        let t = takeover(&s, &[peer(12), peer(13)], "0/1").expect("takeover");
        assert_eq!(role_of(&peer(11).id, Some(&t)), Role::Deposed);
        assert_eq!(s.upstream_of(&peer(13).id), Some(&peer(12)));
        assert_eq!(s.upstream_of(&peer(12).id), Some(&peer(11)));
    }
}
