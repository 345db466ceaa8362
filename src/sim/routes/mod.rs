//! The simulated API families and their routes. Each route is wrapped in the pipeline of its
//! operation name (used by counters and fault filters); the names follow the vendor SDK's
//! operation names.
//!
//! Families: the VPN v5 API ([`gateways`], [`customer_gateways`], [`connections`],
//! [`monitors`], [`quotas`], [`tags`]) and the IAM token API ([`iam`]). Another family (e.g. the
//! IES CloudVPN API) adds its own module and merges its router in [`router`].
use axum::routing::{delete, get, post, put};
use axum::Router;

use super::auth::query_pairs;
use super::errors::{ApiError, ApiResult};
use super::server::{op, open_op, Sim};
use crate::cloud::model::QueryParams;

pub mod connections;
pub mod customer_gateways;
pub mod gateways;
pub mod iam;
pub mod monitors;
pub mod quotas;
pub mod tags;

/// Parses a list query with the model's parser; VPN.0001 on a bad value.
pub fn query<Q: QueryParams>(raw: Option<&str>) -> ApiResult<Q> {
    let pairs = query_pairs(raw);
    Q::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// Every simulated API route.
pub fn router(sim: &Sim) -> Router<Sim> {
    let s = sim;
    let gw = "/v5/{project_id}/vpn-gateways";
    let cgw = "/v5/{project_id}/customer-gateways";
    let conn = "/v5/{project_id}/vpn-connection";
    let mon = "/v5/{project_id}/connection-monitors";
    Router::new()
        // VPN gateways.
        .route(
            gw,
            op(s, "CreateVgw", post(gateways::create)).merge(op(
                s,
                "ListVgws",
                get(gateways::list),
            )),
        )
        .route(
            &format!("{gw}/availability-zones"),
            op(
                s,
                "ListAvailabilityZones",
                get(gateways::availability_zones),
            ),
        )
        .route(
            "/v5.1/{project_id}/vpn-gateways/availability-zones",
            op(
                s,
                "ListExtendedAvailabilityZones",
                get(gateways::extended_availability_zones),
            ),
        )
        .route(
            &format!("{gw}/jobs"),
            op(s, "ListResourceJobs", get(gateways::list_jobs)),
        )
        .route(
            &format!("{gw}/jobs/{{job_id}}"),
            op(s, "DeleteResourceJob", delete(gateways::delete_job)),
        )
        .route(
            &format!("{gw}/{{vgw_id}}"),
            op(s, "ShowVgw", get(gateways::show))
                .merge(op(s, "UpdateVgw", put(gateways::update)))
                .merge(op(s, "DeleteVgw", delete(gateways::delete))),
        )
        .route(
            &format!("{gw}/{{vgw_id}}/update-specification"),
            op(
                s,
                "UpdatePostpaidVgwSpecification",
                post(gateways::update_specification),
            ),
        )
        .route(
            &format!("{gw}/{{vgw_id}}/upgrade"),
            op(s, "UpgradeVgw", post(gateways::upgrade)),
        )
        .route(
            &format!("{gw}/{{vgw_id}}/routing-table"),
            op(s, "ShowVgwRoutingTable", get(gateways::routing_table)),
        )
        .route(
            &format!("{gw}/{{vgw_id}}/certificate"),
            op(
                s,
                "CreateVgwCertificate",
                post(gateways::create_certificate),
            )
            .merge(op(s, "ShowVgwCertificate", get(gateways::show_certificate))),
        )
        .route(
            &format!("{gw}/{{vgw_id}}/certificate/{{certificate_id}}"),
            op(s, "UpdateVgwCertificate", put(gateways::update_certificate)),
        )
        // Customer gateways.
        .route(
            cgw,
            op(s, "CreateCgw", post(customer_gateways::create)).merge(op(
                s,
                "ListCgws",
                get(customer_gateways::list),
            )),
        )
        .route(
            &format!("{cgw}/{{customer_gateway_id}}"),
            op(s, "ShowCgw", get(customer_gateways::show))
                .merge(op(s, "UpdateCgw", put(customer_gateways::update)))
                .merge(op(s, "DeleteCgw", delete(customer_gateways::delete))),
        )
        // VPN connections (singular path, plural batch path).
        .route(
            conn,
            op(s, "CreateVpnConnection", post(connections::create)).merge(op(
                s,
                "ListVpnConnections",
                get(connections::list),
            )),
        )
        .route(
            "/v5/{project_id}/vpn-connections/batch-create",
            op(
                s,
                "BatchCreateVpnConnections",
                post(connections::batch_create),
            ),
        )
        .route(
            &format!("{conn}/{{vpn_connection_id}}"),
            op(s, "ShowVpnConnection", get(connections::show))
                .merge(op(s, "UpdateVpnConnection", put(connections::update)))
                .merge(op(s, "DeleteVpnConnection", delete(connections::delete))),
        )
        .route(
            &format!("{conn}/{{vpn_connection_id}}/log"),
            op(s, "ListVpnConnectionLogs", get(connections::logs)),
        )
        .route(
            &format!("{conn}/{{vpn_connection_id}}/reset"),
            op(s, "ResetVpnConnection", post(connections::reset)),
        )
        // Connection monitors.
        .route(
            mon,
            op(s, "CreateConnectionMonitor", post(monitors::create)).merge(op(
                s,
                "ListConnectionMonitors",
                get(monitors::list),
            )),
        )
        .route(
            &format!("{mon}/{{connection_monitor_id}}"),
            op(s, "ShowConnectionMonitor", get(monitors::show)).merge(op(
                s,
                "DeleteConnectionMonitor",
                delete(monitors::delete),
            )),
        )
        // Quotas and tags.
        .route(
            "/v5/{project_id}/vpn/quotas",
            op(s, "ShowQuotasInfo", get(quotas::show)),
        )
        .merge(tags::router(s))
        // IAM.
        .route(
            "/v3/auth/tokens",
            open_op(
                s,
                "KeystoneCreateUserTokenByPassword",
                post(iam::create_token),
            ),
        )
}
