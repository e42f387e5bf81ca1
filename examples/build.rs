//! Generates the prost types of the `protobuf` example from `protobuf/chat.proto`. protox
//! parses the file, so building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "protobuf/chat.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["protobuf"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
