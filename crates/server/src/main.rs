//! `tandem-server`: serve the API and the demo (default), run one completion in the
//! terminal (`generate`), mint a short-lived bearer token (`token`), or revoke one on
//! every replica (`revoke`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use tandem_core::{CancelFlag, ChatCompletionRequest, ChatMessage, Engine, Reply, ReplyStep, Role};
use tandem_server::config::{Config, DEFAULT_MODEL};
use tandem_server::store::Store;
use tandem_server::{auth, App};

#[derive(Parser)]
#[command(
    about = "tandem's server API: OpenAI-compatible chat completions, embeddings and the demo"
)]
struct Cli {
    /// Listening address (default 127.0.0.1:8080, or the config's).
    #[arg(long)]
    addr: Option<String>,
    /// TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// GGUF file for the native backend.
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one completion on the native model and print it as it comes.
    Generate {
        /// The user's message.
        #[arg(long)]
        prompt: String,
        /// Most tokens to generate.
        #[arg(long, default_value_t = 128)]
        max_tokens: usize,
        /// Sampling temperature (0 = greedy).
        #[arg(long, default_value_t = 0.0)]
        temperature: f32,
    },
    /// Print a bearer token signed with the secret in the config's `auth.secret_env`.
    Token {
        /// Lifetime: seconds, or a number with s, m, h or d.
        #[arg(long, default_value = "10m", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Revoke a signed token on every replica before it expires (needs `[redis]`).
    Revoke {
        /// The token, as `token` printed it.
        token: String,
    },
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(n * scale))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(addr) = cli.addr {
        config.addr = addr;
    }
    match cli.command {
        None => serve(config.finish(cli.model)?),
        Some(Command::Generate {
            prompt,
            max_tokens,
            temperature,
        }) => generate(
            &cli.model.unwrap_or_else(|| DEFAULT_MODEL.into()),
            prompt,
            max_tokens,
            temperature,
        ),
        Some(Command::Token { ttl }) => {
            let name = config
                .auth
                .secret_env
                .as_deref()
                .ok_or("the config names no auth.secret_env to sign tokens with")?;
            println!("{}", auth::mint(&auth::secret_from_env(name)?, ttl));
            Ok(())
        }
        Some(Command::Revoke { token }) => revoke(&config, &token),
    }
}

fn serve(config: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        tracing::info!(
            "serving on http://{}/",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let app = App::new(config)?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        tandem_server::serve(listener, app, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

fn revoke(config: &Config, token: &str) -> Result<(), String> {
    let redis = config
        .redis
        .as_ref()
        .ok_or("revoking needs the shared store: the config has no [redis]")?;
    let signed = auth::Auth::from_config(&config.auth)?
        .verify(token)
        .map_err(|e| e.message)?;
    let store = Store::new(redis)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime
        .block_on(store.revoke(&signed.id, signed.lifetime_left()))
        .ok_or("redis did not answer")?;
    eprintln!("revoked until it expires at Unix time {}", signed.expires);
    Ok(())
}

fn generate(
    model: &PathBuf,
    prompt: String,
    max_tokens: usize,
    temperature: f32,
) -> Result<(), String> {
    let mut engine = Engine::open(model).map_err(|e| e.to_string())?;
    let request = ChatCompletionRequest {
        max_tokens: Some(max_tokens),
        temperature: Some(temperature),
        ..ChatCompletionRequest::new(vec![ChatMessage::new(Role::User, prompt)])
    };
    let start = Instant::now();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let clock = Box::new(move || start.elapsed().as_secs_f64() * 1e3);
    let mut reply = Reply::new(
        &engine,
        &request,
        "chatcmpl-cli".into(),
        created,
        "remote",
        CancelFlag::default(),
        clock,
    )
    .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    while let Some(step) = reply.next_step(&mut engine) {
        let ReplyStep::Chunk(chunk) = step.map_err(|e| e.to_string())? else {
            continue;
        };
        for choice in &chunk.choices {
            let _ = write!(out, "{}", choice.delta.content.as_deref().unwrap_or(""));
            let _ = out.flush();
        }
        if let Some(info) = chunk.tandem {
            let _ = writeln!(out);
            eprintln!(
                "[{} prompt + {} generated tokens; first token {:.0} ms; {:.1} tokens/s]",
                chunk.usage.map_or(0, |u| u.prompt_tokens),
                chunk.usage.map_or(0, |u| u.completion_tokens),
                info.time_to_first_token_ms,
                info.decode_tokens_per_s
            );
        }
    }
    Ok(())
}
