//! Embeds libtorch's library folder as the binary's rpath, so `cb-llm-node` and the tests run
//! without LD_LIBRARY_PATH (torch-sys exports the folder to its direct dependents). Where the
//! libtorch is a CUDA build, links libtorch_cuda.so even though no symbol of it is referenced:
//! the linker would drop it (--as-needed) and the CUDA backend would then never register.
fn main() {
    if let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        let lib = std::path::PathBuf::from(lib);
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        if lib.join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
