//! The route table's second half: resource pools, networks, base images
//! and ISOs, groups, templates, desktop groups and desktops, users,
//! terminals, tasks and the operation log, in both dialects.

use super::*;
use crate::domain::desktop::Kind;
use crate::service::desktop::run::GroupOp;
use crate::service::desktop::Power;
use desktop::InstanceOp;
use user::UsersOp;

pub(super) fn table() -> Vec<Route> {
    use Method::*;
    vec![
        // Resource pools, server dialect (file 000).
        route(
            Post,
            "/api/v1/resource_pool/create",
            "resource_pool/create",
            "Create a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_create)
        .body(with_async::<CreateReq>())
        .to(h!(resource_pool::create)),
        route(
            Post,
            "/api/v1/resource_pool/delete",
            "resource_pool/delete",
            "Delete a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_delete)
        .body(with_async::<DeleteReq>())
        .to(h!(resource_pool::delete)),
        route(
            Post,
            "/api/v1/resource_pool/update",
            "resource_pool/update",
            "Rename, describe or make default a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_update)
        .body(with_async::<UpdateReq>())
        .to(h!(resource_pool::update)),
        // Resource pools, web dialect (file 001 conventions).
        query(
            "/api/v1.0/resource_pool/",
            "resource_pool/query",
            "Query resource pools (searchtype, filters, paging)",
        ),
        route(
            Post,
            "/api/v1.0/resource_pool/",
            "resource_pool/action",
            "Resource-pool action (`create`)",
        )
        .body(Some(doc::pool_actions))
        .to(h!(resource_pool::web_post)),
        route(
            Put,
            "/api/v1.0/resource_pool/",
            "resource_pool/put",
            "Update a resource pool",
        )
        .body(schema::<WebPutReq>())
        .to(h!(resource_pool::web_put)),
        route(
            Delete,
            "/api/v1.0/resource_pool/",
            "resource_pool/batch_delete",
            "Delete resource pools (batch)",
        )
        .body(schema::<WebDeleteReq>())
        .to(h!(resource_pool::web_delete)),
        // Virtual switches, networks and subnets (file 000 "网络接口").
        route(
            Post,
            "/api/v1/vswitch/create",
            "vswitch/create",
            "Create a virtual switch with uplinks per node",
        )
        .body(schema::<net::VSwitchCreateReq>())
        .to(h!(network::vswitch_create)),
        route(
            Post,
            "/api/v1/vswitch/update",
            "vswitch/update",
            "Rename, retype, describe or re-uplink a virtual switch",
        )
        .body(schema::<net::VSwitchUpdateReq>())
        .to(h!(network::vswitch_update)),
        route(
            Post,
            "/api/v1/vswitch/delete",
            "vswitch/delete",
            "Delete a virtual switch without networks",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::vswitch_delete)),
        route(
            Post,
            "/api/v1/network/create",
            "network/create",
            "Create a data network (and its first subnet); bridges it on every node",
        )
        .body(schema::<net::NetworkCreateReq>())
        .to(h!(network::network_create)),
        route(
            Post,
            "/api/v1/network/update",
            "network/update",
            "Rename a network, or update a subnet when given a subnet uuid",
        )
        .body(schema::<net::UpdateReq>())
        .to(h!(network::network_update)),
        route(
            Post,
            "/api/v1/network/delete",
            "network/delete",
            "Delete a network: bridges, then subnets, then the network",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::network_delete)),
        route(
            Post,
            "/api/v1/network/init",
            "network/init",
            "Deprecated (use controller/init): default switch, network and subnet",
        )
        .deprecated()
        .body(schema::<net::NetworkInitReq>())
        .to(h!(network::network_init)),
        route(
            Post,
            "/api/v1/network/confirm",
            "network/confirm",
            "Confirm a change that moved the management address",
        )
        .body(schema::<crate::api::fields::NoFields>())
        .to(h!(network::network_confirm)),
        route(
            Post,
            "/api/v1/subnet/create",
            "subnet/create",
            "Add a subnet (IP pool) to a network",
        )
        .body(schema::<net::SubnetCreateReq>())
        .to(h!(network::subnet_create)),
        route(
            Post,
            "/api/v1/subnet/update",
            "subnet/update",
            "Update a subnet",
        )
        .body(schema::<net::UpdateReq>())
        .to(h!(network::subnet_update)),
        route(
            Post,
            "/api/v1/subnet/delete",
            "subnet/delete",
            "Delete a subnet without allocated addresses",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::subnet_delete)),
        route(
            Post,
            "/api/v1/node/add_bond",
            "node/add_bond",
            "Bond NICs of a node; their addresses move to the bond",
        )
        .body(schema::<crate::api::bond::BondReq>())
        .to(h!(bond::add_bond)),
        route(
            Post,
            "/api/v1/node/edit_bond",
            "node/edit_bond",
            "Change a bond's mode, slaves or addresses",
        )
        .body(schema::<crate::api::bond::BondReq>())
        .to(h!(bond::edit_bond)),
        route(
            Post,
            "/api/v1/node/unbond",
            "node/unbond",
            "Remove a bond; its slaves get their addresses back",
        )
        .body(schema::<crate::api::bond::UnbondReq>())
        .to(h!(bond::unbond)),
        query("/api/v1.0/bond/", "bond/query", "Query bonds"),
        query(
            "/api/v1.0/vswitch/",
            "vswitch/query",
            "Query virtual switches",
        ),
        query("/api/v1.0/network/", "network/query", "Query data networks"),
        query("/api/v1.0/subnet/", "subnet/query", "Query subnets"),
        query("/api/v1.0/node_nic/", "node_nic/query", "Query node NICs"),
        route(
            Get,
            "/api/v1/node/links",
            "node/links",
            "This host's links as the kernel has them: kind, master, VLAN parent and id, bond mode, addresses",
        )
        .to(h!(bond::links)),
        // Base images and ISOs (file 000 "基础镜像"; upload streams the file).
        route(
            Put,
            "/api/v1/base_image/upload",
            "base_image/upload",
            "Upload a qcow2 base image as the body (?name=&os_type=&pool_uuid=&md5_sum=)",
        )
        .streaming()
        .to(h!(image::image_upload)),
        route(
            Post,
            "/api/v1/base_image/upload",
            "base_image/upload_post",
            "Upload a qcow2 base image as the body (POST form of the PUT)",
        )
        .streaming()
        .to(h!(image::image_upload)),
        route(
            Post,
            "/api/v1/resource_pool/images/upload",
            "resource_pool/images_upload",
            "Register an image already on this node (md5 verified); a task copies it to the pool's joined nodes (`distribute_task`)",
        )
        .body(schema::<crate::api::template::RegisterReq>())
        .to(h!(image::image_register)),
        route(
            Post,
            "/api/v1/resource_pool/images/retransmit",
            "resource_pool/images_retransmit",
            "Check a base image's copy on one node (host_uuid or ipaddr) or on every node of its pool, and send it again where it is missing or damaged",
        )
        .body(with_async::<crate::api::template::RetransmitReq>())
        .to(h!(image::image_retransmit)),
        route(
            Post,
            "/api/v1/resource_pool/images/delete",
            "resource_pool/images_delete",
            "Delete a base image no template uses",
        )
        .body(schema::<crate::api::template::ImageIdReq>())
        .to(h!(image::image_delete)),
        query("/api/v1.0/base_image/", "base_image/query", "Query base images"),
        route(
            Put,
            "/api/v1/iso/upload",
            "iso/upload",
            "Upload an installation ISO as the body (?name=&os_type=&md5_sum=)",
        )
        .streaming()
        .to(h!(image::iso_upload)),
        route(
            Post,
            "/api/v1/iso/upload",
            "iso/upload_post",
            "Upload an installation ISO (POST form of the PUT)",
        )
        .streaming()
        .to(h!(image::iso_upload)),
        route(Post, "/api/v1/iso/delete", "iso/delete", "Delete an ISO no template holds")
            .body(schema::<crate::api::template::NameUuid>())
            .to(h!(image::iso_delete)),
        query("/api/v1.0/iso/", "iso/query", "Query ISOs"),
        // Groups (file 000 "分组", file 001 "教学分组").
        route(Post, "/api/v1/group/create", "group/create", "Create a classroom or user group")
            .body(schema::<crate::api::template::GroupReq>())
            .to(h!(group::group_create)),
        route(Post, "/api/v1/group/update", "group/update", "Update a group")
            .body(schema::<crate::api::template::GroupReq>())
            .to(h!(group::group_update)),
        route(Post, "/api/v1/group/delete", "group/delete", "Delete a group nothing uses")
            .body(Some(doc::group_delete_forms))
            .to(h!(group::group_delete)),
        query("/api/v1.0/voi/education/group/", "group/query", "Query groups"),
        route(Post, "/api/v1.0/voi/education/group/", "group/web_create", "Create a group (web dialect): the group, bare or as `param`")
            .body(Some(doc::group_create_forms))
            .to(h!(group::group_create)),
        route(Put, "/api/v1.0/voi/education/group/", "group/web_update", "Update a group (web dialect)")
            .body(schema::<crate::api::template::GroupReq>())
            .to(h!(group::group_update)),
        route(Delete, "/api/v1.0/voi/education/group/", "group/web_delete", "Delete groups (batch)")
            .body(Some(doc::group_delete_forms))
            .to(h!(group::group_delete)),
        // Templates, server dialect (file 000 "教学模板").
        tpl!("create", tp::CreateReq, h!(template::server_create), "Create a template from a base image or an ISO (a task)"),
        tpl!("delete", "Delete a template no desktop group uses: domain, files, address"),
        tpl!("start", "Power a template on"),
        tpl!("stop", "Shut a template down (ACPI, then off after the timeout)"),
        tpl!("save", "Publish the working state as a new version (a task)"),
        tpl!("copy", tp::CopyReq, h!(template::server_copy), "Copy a template's current version into a new template (a task)"),
        tpl!("download", "Flatten the current version into a standalone image; answers its path and URL"),
        tpl!("change_device", "Load an ISO (by path) into the cdrom, or eject with an empty path"),
        tpl!("rollback", "Return to a kept version (unsaved edits are discarded)"),
        tpl!("console", tp::OneReq, h!(template::server_console), "A one-time SPICE ticket and a remote-viewer file for a running template"),
        route(
            Get,
            "/api/v1/template/download",
            "template/download_file",
            "Stream an exported template image (?path=)",
        )
        .to(h!(template::download_file)),
        // Templates, web dialect (file 001 "模板接口").
        route(Get, "/api/v1.0/voi/education/template/", "template/query", "Query templates; `group=` lists those a classroom may use")
            .to(h!(template::web_get)),
        route(Post, "/api/v1.0/voi/education/template/", "template/action", "Template action (create, start, stop, hard_stop, reboot, hard_reboot, reset, edit, attach_source, detach_source, iso_save, save, rollback, copy, download)")
            .body(Some(doc::template_actions))
            .to(h!(template::web_post)),
        route(Put, "/api/v1.0/voi/education/template", "template/put", "Change a template's attributes, grow or add disks")
            .body(schema::<crate::api::template::PutReq>())
            .to(h!(template::web_put)),
        route(Put, "/api/v1.0/voi/education/template/", "template/put_slash", "Change a template's attributes (same as without the slash)")
            .body(schema::<crate::api::template::PutReq>())
            .to(h!(template::web_put)),
        route(Delete, "/api/v1.0/voi/education/template/", "template/batch_delete", "Delete templates (batch)")
            .body(schema::<crate::api::template::BatchReq>())
            .to(h!(template::web_delete)),
        route(Get, "/api/v1.0/voi/education/template/operate/", "template/operate", "A template's versions and operations")
            .to(h!(template::web_operate)),
        route(Get, "/api/v1.0/voi/education/template/ipaddr/", "template/ipaddr", "The address a new template would get in a subnet")
            .to(h!(template::web_ipaddr)),
        // Education desktop groups, server dialect (file 000 "桌面组").
        verb!("/api/v1/desktop/education/", "desktop_education", "create", run!(desktop::group_create, Kind::Education), with_async::<dk::CreateReq>(), "Create a classroom desktop group and its desktops (a task)"),
        verb!("/api/v1/desktop/education/", "desktop_education", "delete", run!(desktop::group_run, Kind::Education, GroupOp::Delete), with_async::<dk::NameUuid>(), "Delete a stopped group: domains, disks (data too), addresses"),
        verb!("/api/v1/desktop/education/", "desktop_education", "start", run!(desktop::group_run, Kind::Education, GroupOp::Power(Power::Start)), with_async::<dk::NameUuid>(), "Start every desktop of the group (restoring disks)"),
        verb!("/api/v1/desktop/education/", "desktop_education", "stop", run!(desktop::group_run, Kind::Education, GroupOp::Power(Power::Stop)), with_async::<dk::NameUuid>(), "Stop every desktop of the group"),
        verb!("/api/v1/desktop/education/", "desktop_education", "reboot", run!(desktop::group_run, Kind::Education, GroupOp::Power(Power::Reboot)), with_async::<dk::NameUuid>(), "Restart every desktop (power cycle, so restore applies)"),
        verb!("/api/v1/desktop/education/", "desktop_education", "active", run!(desktop::group_run, Kind::Education, GroupOp::Active(true)), with_async::<dk::NameUuid>(), "Show the group to terminals"),
        verb!("/api/v1/desktop/education/", "desktop_education", "inactive", run!(desktop::group_run, Kind::Education, GroupOp::Active(false)), with_async::<dk::NameUuid>(), "Hide the group from terminals"),
        verb!("/api/v1/desktop/education/", "desktop_education", "default", run!(desktop::group_run, Kind::Education, GroupOp::Default), with_async::<dk::NameUuid>(), "Make the group its classroom's default"),
        verb!("/api/v1/desktop/education/", "desktop_education", "update", h!(desktop::group_update), with_async::<dk::UpdateReq>(), "Rename or change restore flags"),
        // Personal desktop groups (file 000 "个人桌面组").
        verb!("/api/v1/desktop/personal/", "desktop_personal", "create", run!(desktop::group_create, Kind::Personal), Some(doc::personal_create_forms), "Create a random or static personal group (a task)"),
        verb!("/api/v1/desktop/personal/", "desktop_personal", "delete", run!(desktop::group_run, Kind::Personal, GroupOp::Delete), with_async::<dk::NameUuid>(), "Delete a stopped personal group"),
        verb!("/api/v1/desktop/personal/", "desktop_personal", "start", run!(desktop::group_run, Kind::Personal, GroupOp::Power(Power::Start)), with_async::<dk::NameUuid>(), "Start every desktop of the group"),
        verb!("/api/v1/desktop/personal/", "desktop_personal", "stop", run!(desktop::group_run, Kind::Personal, GroupOp::Power(Power::Stop)), with_async::<dk::NameUuid>(), "Stop every desktop of the group (gracefully)"),
        verb!("/api/v1/desktop/personal/", "desktop_personal", "reboot", run!(desktop::group_run, Kind::Personal, GroupOp::Power(Power::Reboot)), with_async::<dk::NameUuid>(), "Restart every desktop of the group"),
        verb!("/api/v1/desktop/personal/", "desktop_personal", "update", h!(desktop::group_update), with_async::<dk::UpdateReq>(), "Rename, maintenance, user groups"),
        // Desktops of a group (file 000 "桌面").
        verb!("/api/v1/instance/", "instance", "start", run!(desktop::instance_run, InstanceOp::Power(Power::Start)), with_async::<dk::InstanceReq>(), "Start desktops of a group"),
        verb!("/api/v1/instance/", "instance", "stop", run!(desktop::instance_run, InstanceOp::Power(Power::Stop)), with_async::<dk::InstanceReq>(), "Stop desktops of a group"),
        verb!("/api/v1/instance/", "instance", "hard_stop", run!(desktop::instance_run, InstanceOp::Power(Power::HardStop)), with_async::<dk::InstanceReq>(), "Power desktops off at once"),
        verb!("/api/v1/instance/", "instance", "reboot", run!(desktop::instance_run, InstanceOp::Power(Power::Reboot)), with_async::<dk::InstanceReq>(), "Restart desktops of a group"),
        verb!("/api/v1/instance/", "instance", "hard_reboot", run!(desktop::instance_run, InstanceOp::Power(Power::HardReboot)), with_async::<dk::InstanceReq>(), "Power-cycle desktops at once"),
        verb!("/api/v1/instance/", "instance", "create", run!(desktop::instance_run, InstanceOp::Create), with_async::<dk::InstanceReq>(), "Add desktops to a group (numbering continues)"),
        verb!("/api/v1/instance/", "instance", "delete", run!(desktop::instance_run, InstanceOp::Delete), with_async::<dk::InstanceReq>(), "Delete stopped desktops of a group"),
        verb!("/api/v1/instance/", "instance", "assign", run!(desktop::instance_assign, true), schema::<dk::AssignReq>(), "Bind a personal desktop to a user"),
        verb!("/api/v1/instance/", "instance", "unassign", run!(desktop::instance_assign, false), schema::<dk::AssignReq>(), "Free a personal desktop"),
        // Desktop groups and desktops, web dialect (file 001 "教学桌面组").
        query("/api/v1.0/voi/education/desktop/", "desktop_group/query_education", "Query desktop groups (`group=` a classroom)"),
        route(Post, "/api/v1.0/voi/education/desktop/", "desktop_group/action", "Desktop group action (create, default, active, inactive, start, stop, hard_stop, reboot, hard_reboot)")
            .body(Some(doc::desktop_actions))
            .to(h!(desktop::web_post)),
        route(Put, "/api/v1.0/voi/education/desktop/", "desktop_group/put", "Change a desktop group")
            .body(schema::<crate::api::desktop::UpdateReq>())
            .to(h!(desktop::web_put)),
        route(Delete, "/api/v1.0/voi/education/desktop/", "desktop_group/batch_delete", "Delete desktop groups (batch)")
            .body(schema::<crate::api::desktop::BatchReq>())
            .to(h!(desktop::web_delete)),
        query("/api/v1.0/voi/education/instance/", "instance/query_education", "Query desktops (`desktop_group=` a group)"),
        query("/api/v1.0/desktop_group/", "desktop_group/query", "Query desktop groups"),
        query("/api/v1.0/instance/", "instance/query", "Query desktops"),
        // Users (file 000 "用户管理").
        verb!("/api/v1/group/user/", "user", "create", h!(user::create), schema::<us::UserCreateReq>(), "Create a user in a user group"),
        verb!("/api/v1/group/user/", "user", "multi_create", h!(user::multi_create), schema::<us::UserCreateReq>(), "Create numbered users (all or none)"),
        verb!("/api/v1/group/user/", "user", "update", h!(user::update), schema::<us::UserUpdateReq>(), "Change a user"),
        verb!("/api/v1/group/user/", "user", "delete", run!(user::batch, UsersOp::Delete), schema::<us::UsersReq>(), "Delete one or more users"),
        verb!("/api/v1/group/user/", "user", "enable", run!(user::batch, UsersOp::Enable), schema::<us::UsersReq>(), "Let users log in"),
        verb!("/api/v1/group/user/", "user", "disable", run!(user::batch, UsersOp::Disable), schema::<us::UsersReq>(), "Stop users logging in"),
        route(Post, "/api/v1/group/user/import", "user/import", "Import users from CSV (user_name,password,name,phone,email), all or none")
            .body(schema::<crate::api::user::UserImportReq>())
            .to(h!(terminal::user_import)),
        query("/api/v1.0/group_user/", "group_user/query", "Query users (never their passwords)"),
        // Terminals (file 000 "终端管理服务"): public, each call authenticated
        // by its session or by the classroom terminal's address.
        term!("personal/login", "Log a user in on a terminal; a session that expires unused", terminal::login, crate::api::terminal::LoginReq),
        term!("personal/logout", "End a terminal session", terminal::logout, SessionReq),
        term!("personal/change_pwd", "Change a user's password with the old one", terminal::change_pwd, ChangePwdReq),
        term!("personal/person_desktops", "Personal desktop groups the session's user may open", terminal::person_desktops, SessionReq).quiet(),
        term!("personal/instance", "Open the user's desktop: start it, fresh SPICE ticket", terminal::personal_instance, PersonalOpenReq),
        term!("personal/close_instance", "Stop the desktop the user has open on this terminal", terminal::personal_close, PersonalCloseReq),
        term!("education/edu_desktops", "Active desktop groups of the terminal's classroom", terminal::edu_desktops, EduDesktopsReq).quiet(),
        term!("education/instance", "Open the seat's desktop of a classroom group: start it, fresh SPICE ticket", terminal::edu_instance, EduOpenReq),
        term!("education/close_instance", "Stop the desktop a classroom terminal has open", terminal::edu_close, MacReq),
        term!("education/group", "The classroom a terminal address belongs to", terminal::edu_group, TerminalIpReq).quiet(),
        term!("instance/list", "Desktop addresses of classroom terminals", terminal::instance_list, Vec<BindingReq>).quiet(),
        term!("instance/close", "Stop a desktop the calling terminal has open", terminal::instance_close, CloseReq),
        term!("instance/groups", "Every classroom and user group (the body, `{}`, may be left out)", terminal::groups, crate::api::fields::NoFields).quiet(),
        // The terminal registry (admin).
        query("/api/v1.0/terminal/", "terminal/query", "Query terminals seen: MAC, address, seat, classroom, user, desktop"),
        route(Put, "/api/v1.0/terminal/", "terminal/put", "Rename or re-seat a terminal")
            .body(schema::<crate::api::terminal::TerminalPutReq>())
            .to(h!(terminal::web_put)),
        route(Delete, "/api/v1.0/terminal/", "terminal/batch_delete", "Forget terminals (batch)")
            .body(schema::<crate::api::terminal::TerminalDeleteReq>())
            .to(h!(terminal::web_delete)),
        // Tasks and the operation log.
        route(
            Get,
            "/api/v1/task/:id",
            "task/get",
            "One task: state, percent, log, error, result",
        )
        .to(h!(system::task_get)),
        query("/api/v1.0/task/", "task/query", "Query tasks"),
        query(
            "/api/v1.0/operation_log/",
            "operation_log/query",
            "Query the operation log",
        ),
    ]
}
