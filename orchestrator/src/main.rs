use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cbutler::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cbutler::cli::run(cli, &mut out) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
