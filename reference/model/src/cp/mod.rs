//! WSO2 APK's control-plane resources (`cp.wso2.com`): applications and their subscriptions.

pub mod application;
pub mod subscription;

/// APK's control-plane API group.
pub const CP_GROUP: &str = "cp.wso2.com";
