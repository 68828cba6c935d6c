//! `mafs completions SHELL`: the shell completion script (clap_complete), on stdout.
//!
//! ```sh
//! mafs completions bash > ~/.local/share/bash-completion/completions/mafs
//! mafs completions zsh > "${fpath[1]}/_mafs"
//! ```

use std::process::ExitCode;

/// Arguments of `mafs completions`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// Writes the script for `args.shell` of the command `cmd` to stdout.
pub fn run(args: CompletionsArgs, cmd: &mut clap::Command) -> anyhow::Result<ExitCode> {
    // Into a buffer first: clap_complete panics when stdout closes early (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, cmd, "mafs", &mut script);
    match std::io::Write::write_all(&mut std::io::stdout(), &script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
