//! Generates the prost types of the protobuf golden-vector test from
//! `interop/proto/golden.proto`, the file protobufjs reads too. protox parses it, so no `protoc`
//! is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "interop/proto/golden.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["interop/proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
