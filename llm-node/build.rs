//! Embeds libtorch's library folder as the binary's rpath, so `cb-llm-node` and the tests run
//! without LD_LIBRARY_PATH (torch-sys exports the folder to its direct dependents).
fn main() {
    if let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy());
    }
}
