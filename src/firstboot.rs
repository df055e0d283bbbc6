//! Unattended first boot: an answer file (TOML or JSON) turned into the
//! same controller initialisation the setup page performs.

use std::sync::Arc;

use crate::api::controller::{AnswerFile, InitReq};
use crate::error::Result;
use crate::service::Services;

/// Initialises from the answer file's text; returns the lines to print.
pub async fn init_from_answers(services: &Arc<Services>, text: &str) -> Result<Vec<String>> {
    let a = AnswerFile::parse(text)?;
    let spec = a.init.into_domain()?;
    let answers = InitReq::answers(&spec);
    let r = services
        .controller_init_unattended(&a.admin_name, &a.admin_password, spec, answers)
        .await?;
    let Some((task, out)) = r else {
        return Ok(vec![
            "the controller is already initialised with these answers; nothing to do".into(),
        ]);
    };
    let mut lines: Vec<String> = services.task_get(&task).map(|t| t.log).unwrap_or_default();
    lines.push(format!(
        "initialised: node {}, network {} on bridge {}; admin `{}` can log in",
        out.node, out.network, out.bridge, a.admin_name
    ));
    Ok(lines)
}
