//! APK's Config Service and Deployer.
