//! Why a world operation was refused.

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WorldError {
    #[error("lab world: no server {0:?} (give a hostname or uuid from `lab status`)")]
    NoServer(String),
    #[error("lab world: no active VM with alias or uuid {0:?} (check `lab status`)")]
    NoVm(String),
    #[error("lab world: no service {0:?} (seed the service before its instances)")]
    NoService(String),
    #[error("lab world: no application {0:?} (seed the application before its services)")]
    NoApplication(String),
    #[error("lab world: {0} is already in use (pick another)")]
    Duplicate(String),
    #[error(
        "lab world: cannot save or load the world: {0} (delete the lab directory to start fresh)"
    )]
    Persist(String),
    #[error("lab world: VM {0} is {1} and cannot be started or stopped (wait for its job to end)")]
    VmBusy(String, &'static str),
    #[error("lab world: {0} cannot start: its server {1} is down (lab fault server-up {1} first)")]
    ServerDown(String, String),
}
