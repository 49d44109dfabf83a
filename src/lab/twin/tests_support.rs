//! A small seeded lab world served over real HTTP on 127.0.0.1, for the twins' tests.

use std::net::Ipv4Addr;

use axum::Router;
use serde_json::Value;

use crate::lab::world::{
    ApplicationSpec, InstanceSpec, Package, ServerSpec, ServiceSpec, SharedWorld, World,
    WorldConfig,
};

use super::{Twin, router};
use crate::api::Api;

pub const ADMIN: &str = "930896af-bf8c-48d4-885c-6573a94b1853";

/// headnode + cn1 + cn2; `sdc`; binder, manatee, moray (VM services) and cn-agent (agent);
/// binder0, manatee0, moray0 on the headnode, moray1 stopped on cn1.
pub fn world(job_ms: u64) -> World {
    let config = WorldConfig {
        job_duration_ms: job_ms,
        ..WorldConfig::default()
    };
    let mut w = World::new(config);
    let seed = |w: &mut World| -> Result<(), crate::lab::world::WorldError> {
        w.add_server(ServerSpec::new(
            "headnode",
            Ipv4Addr::new(127, 0, 10, 1),
            true,
        ))?;
        w.add_server(ServerSpec::new("cn1", Ipv4Addr::new(127, 0, 10, 2), false))?;
        w.add_server(ServerSpec::new("cn2", Ipv4Addr::new(127, 0, 10, 3), false))?;
        let app = w.add_application(ApplicationSpec::sdc(w))?;
        for (name, img, pkg) in [
            (
                "binder",
                "4129b03e-48e8-42bd-beba-345d660a7b99",
                Package::SDC_1024,
            ),
            (
                "manatee",
                "bb51eebc-8907-489e-953d-ad3fba483e19",
                Package::SDC_DB,
            ),
            (
                "moray",
                "24a4c5c7-a5e6-487d-b1da-2e790dbcaddf",
                Package::SDC_8192,
            ),
        ] {
            let spec = ServiceSpec::core(w, name, &app, img, &pkg);
            w.add_service(spec)?;
        }
        w.add_service(ServiceSpec::agent(
            "cn-agent",
            &app,
            "f8c2b2b5-ba80-4760-a6c4-5904acc119b6",
        ))?;
        for (i, (svc, alias, server, running)) in [
            ("binder", "binder0", "headnode", true),
            ("manatee", "manatee0", "headnode", true),
            ("moray", "moray0", "headnode", true),
            ("moray", "moray1", "cn1", false),
        ]
        .into_iter()
        .enumerate()
        {
            w.add_instance(InstanceSpec {
                service: svc.into(),
                alias: alias.into(),
                server: server.into(),
                ip: Ipv4Addr::new(127, 0, 20, 1 + i as u8),
                uuid: None,
                running,
            })?;
        }
        Ok(())
    };
    if let Err(e) = seed(&mut w) {
        panic!("seeding the test world: {e}");
    }
    w
}

/// A running twin: base URLs of SAPI, VMAPI, CNAPI, IMGAPI and the shared world.
pub struct Lab {
    pub sapi: String,
    pub vmapi: String,
    pub cnapi: String,
    pub imgapi: String,
    pub world: SharedWorld,
    pub http: reqwest::Client,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

pub async fn start(mut world: World) -> Lab {
    world.catalog_images(chrono::Utc::now());
    let shared = SharedWorld::new(world);
    tokio::spawn(shared.clone().drive_jobs());
    let twin = Twin::new(shared.clone());
    Lab {
        sapi: serve(router(Api::Sapi, twin.clone())).await,
        vmapi: serve(router(Api::Vmapi, twin.clone())).await,
        cnapi: serve(router(Api::Cnapi, twin.clone())).await,
        imgapi: serve(router(Api::Imgapi, twin)).await,
        world: shared,
        http: reqwest::Client::new(),
    }
}

impl Lab {
    pub fn uuid_of(&self, alias: &str) -> String {
        self.world
            .with(|w| w.vm_by_alias(alias).map(|v| v.uuid.clone()))
            .unwrap_or_else(|| panic!("no VM {alias}"))
    }

    pub fn server_uuid(&self, host: &str) -> String {
        self.world
            .with(|w| w.find_server(host).map(|s| s.uuid.clone()))
            .unwrap_or_else(|| panic!("no server {host}"))
    }

    pub fn service_uuid(&self, name: &str) -> String {
        self.world
            .with(|w| w.service_by_name(name).map(|s| s.uuid.clone()))
            .unwrap_or_else(|| panic!("no service {name}"))
    }
}

/// Status and parsed JSON body (Null when empty).
pub async fn call(r: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = r.send().await.expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, body)
}

/// Waits for a job through VMAPI and returns it.
pub async fn wait_job(lab: &Lab, job: &str) -> Value {
    for _ in 0..200 {
        let (_, _, j) = call(lab.http.get(format!("{}/jobs/{job}", lab.vmapi))).await;
        if j["execution"] == "succeeded" || j["execution"] == "failed" {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("job {job} did not finish");
}

/// A response body from the shared reference fixtures (`../shared/triton/fixtures`).
pub fn fixture(name: &str) -> Value {
    let text = crate::fixtures::text(name);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
