//! The release build of the app into `dist/`: the first-load build and the second build, their
//! finishing (terser, content-hashed names), the compressed copies, and the size report.

use crate::{Result, run, step, stylesheets, tools, wasm_opt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The second build's page in `dist/`: the server sends it for `/medecin/…` (src/second_build.rs).
pub const DOCTOR_HTML: &str = "medecin.html";
/// The service worker, copied as it is to `dist/` (static/sw.js): never renamed after its hash.
const SERVICE_WORKER: &str = "sw.js";
/// The first load's budget, brotli bytes (README, "Bundle, first load").
const BUDGET: u64 = 200_000;

/// How the release builds compile the app's wasm (set on trunk, which runs cargo): the standard
/// library is compiled with the app (`build-std`, from the toolchain's `rust-src`) with
/// `panic = immediate-abort`, so a panic is a trap at once and neither the standard library's
/// nor the app's panic messages, locations and their formatting are in the wasm. Measured with
/// the same wasm-bindgen and wasm-opt on the first load's wasm (2026-12-07): 223,539 → 204,840
/// bytes brotli (−18.7 KB, about 8 %); `optimize_for_size`, `-Zlocation-detail=none` and
/// `-Zfmt-debug=none` on top of it changed less than 0.1 KB and are not used.
///
/// What a panic loses: Yew's hook printed its message to the browser's console, which nobody
/// but a developer at that browser reads; the app already stopped at once (`panic = "abort"`),
/// and it stops the same way. Debug builds and the wasm tests keep the messages.
///
/// Both are unstable options of the pinned stable compiler, enabled by `RUSTC_BOOTSTRAP=1` for
/// this build only (as Firefox and the Linux kernel build their Rust): the compiler is the same
/// 1.95.0 as every other build. The host crates of this build (proc-macros, build scripts) sit
/// in `target/wasm-release/`, apart from the debug builds', so nothing is rebuilt back and forth.
pub const SMALL_WASM_ENV: [(&str, &str); 3] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zunstable-options -Cpanic=immediate-abort",
    ),
];

/// The two release builds into `dist/`, then the size report:
/// - the first-load build (`trunk build --release`): `index.html`, what a patient and the login
///   page load, without the doctor's screens;
/// - the second build (`--features second-build`, built in `target/dist-second`): its page becomes
///   `dist/medecin.html` and its wasm and JS join `dist/` under their own content-hashed names;
///   the rest (CSS, shell.js, icon, config.json) is the same file under the same name.
pub fn build_dist(root: &Path, env: &tools::ToolEnv) -> Result {
    let dist = root.join("dist");
    let second_dist = root.join("target/dist-second");
    // trunk runs cargo `--offline` (Trunk.toml), and the standard library built with the app
    // has its own dependencies (its `library/Cargo.lock`: dlmalloc, libc, moto-rt…), which a new
    // machine's registry cache lacks: fetched here, a no-op once they are there.
    step("Fetching the crates of the app and of the standard library built with it");
    run(env
        .command("cargo")
        .current_dir(root)
        .envs(SMALL_WASM_ENV)
        .args(["fetch", "--target", "wasm32-unknown-unknown"]))?;
    step("Building the app, first load (trunk build --release)");
    let t = Instant::now();
    run(env
        .command("trunk")
        .current_dir(root)
        .envs(SMALL_WASM_ENV)
        .args(["build", "--release"]))?;
    finish_assets(env, &dist)?;
    stylesheets::keep_out_of_first_load(root, &dist)?;
    step("Building the app, the second build (trunk build --release --features second-build)");
    run(env
        .command("trunk")
        .current_dir(root)
        .envs(SMALL_WASM_ENV)
        .args(["build", "--release", "--features", "second-build", "--dist"])
        .arg(&second_dist))?;
    finish_assets(env, &second_dist)?;
    for entry in std::fs::read_dir(&second_dist).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !path.is_file() {
            continue;
        }
        let target = match name {
            "index.html" => dist.join(DOCTOR_HTML),
            _ => dist.join(name),
        };
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        match std::fs::read(&target) {
            Ok(ours) if ours == bytes => {}
            Ok(_) if name != "index.html" => {
                return Err(format!(
                    "{name}: the two builds wrote different bytes under one name"
                ));
            }
            _ => std::fs::write(&target, bytes).map_err(|e| e.to_string())?,
        }
    }
    precompress(&dist)?;
    eprintln!("    built in {:.1} s", t.elapsed().as_secs_f64());
    print_sizes(&dist)
}

/// Finishes what trunk wrote, in one pass over the wasm, the JS and the CSS:
/// - runs wasm-opt on the wasm and rewrites its glue with the shorter names it gave
///   ([`wasm_opt::optimize`]);
/// - minifies the JS glue with terser (about 1.7 KB less after brotli), since trunk 0.21's own
///   minifier fails on it, and the style sheet with lightningcss (its comments and spaces:
///   4,385 → 3,103 bytes brotli on 2026-12-07), and puts their new hashes in index.html's
///   `integrity` attributes;
/// - renames each after a hash of its final bytes, and index.html's references with them.
///   trunk names them after cargo's raw output, before wasm-bindgen, wasm-opt and terser: a
///   new wasm-opt or terser, or another flag, would give new bytes under the old name, and the
///   server lets browsers keep a hashed name for a year;
/// - drops trunk's `<link rel="preload">` of the wasm (see [`without_wasm_preload`]).
pub fn finish_assets(env: &tools::ToolEnv, dist: &Path) -> Result {
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path).map_err(|e| e.to_string())?;
    let mut index = without_wasm_preload(&index)?;
    // The service worker keeps its name: browsers fetch it again by that name to update it.
    let files: Vec<PathBuf> = files_with_extension(dist, &["css", "js", "wasm"])?
        .into_iter()
        .filter(|file| file.file_name().and_then(|n| n.to_str()) != Some(SERVICE_WORKER))
        .collect();
    let is_wasm = |file: &PathBuf| file.extension().and_then(|x| x.to_str()) == Some("wasm");
    let [wasm] = &files
        .iter()
        .filter(|file| is_wasm(file))
        .collect::<Vec<_>>()[..]
    else {
        return Err(format!("{}: not one wasm file", dist.display()));
    };
    let glue = wasm.with_file_name(
        wasm.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix("_bg.wasm"))
            .map(|stem| format!("{stem}.js"))
            .ok_or_else(|| format!("{}: not wasm-bindgen's name", wasm.display()))?,
    );
    // The integrity attributes trunk wrote: hashes of the files as it wrote them (the wasm,
    // fetched by its glue, has none), to replace once they are changed below.
    let written = files
        .iter()
        .map(|file| {
            if is_wasm(file) {
                return Ok(None);
            }
            sha384(env, file).map(|(_, base64)| Some(format!("\"sha384-{base64}\"")))
        })
        .collect::<Result<Vec<_>>>()?;
    wasm_opt::optimize(env, wasm, &glue)?;
    for (file, written) in files.into_iter().zip(written) {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a file name that is not UTF-8")?
            .to_owned();
        let minifier = if name.ends_with(".js") {
            Some((
                "terser",
                &["--module", "--compress", "--mangle", "--output"][..],
            ))
        } else if name.ends_with(".css") {
            Some(("lightningcss", &["--minify", "--output-file"][..]))
        } else {
            None
        };
        if let Some((program, args)) = minifier {
            run(env.command(program).arg(&file).args(args).arg(&file))?;
        }
        let (hex, base64) = sha384(env, &file)?;
        if let Some(before) = written {
            if index.matches(&before).count() != 1 {
                return Err(format!(
                    "{name}: its integrity hash is not in dist/index.html once"
                ));
            }
            index = index.replace(&before, &format!("\"sha384-{base64}\""));
        }
        let (stem, ext) = name.split_once('.').ok_or("a file without extension")?;
        let (prefix, tail) = stem
            .rsplit_once('-')
            .ok_or_else(|| format!("{name}: not a name trunk hashed"))?;
        let suffix = tail.trim_start_matches(|c: char| c.is_ascii_hexdigit());
        let renamed = format!("{prefix}-{}{suffix}.{ext}", &hex[..16]);
        if !index.contains(&name) {
            return Err(format!("{name} is not named in dist/index.html"));
        }
        index = index.replace(&name, &renamed);
        std::fs::rename(&file, dist.join(&renamed)).map_err(|e| e.to_string())?;
    }
    std::fs::write(&index_path, index).map_err(|e| e.to_string())
}

/// index.html without trunk's preload of the wasm. The first screen is static HTML and CSS
/// (index.html, static/app.css): the wasm is not needed to paint it, and preloaded it shares
/// the phone's link with the style sheet that is. Measured with `cargo xtask bench`'s
/// Lighthouse (mobile): with the preload, performance 0.99 and LCP 1.95 s; without it, 1.00
/// and 0.95 s. The JS glue keeps its modulepreload; the wasm's fetch itself waits for the
/// first paint (`static/first-paint.mjs`, trunk's initializer).
fn without_wasm_preload(index: &str) -> Result<String> {
    without_one_link(
        index,
        "<link rel=\"preload\"",
        "type=\"application/wasm\"",
        "wasm preload links",
    )
    .map(|(index, _)| index)
}

/// `html` without its one tag that starts with `opening` and contains `marker`, and that tag;
/// an error naming `what` when trunk wrote none or several.
pub(crate) fn without_one_link<'a>(
    html: &'a str,
    opening: &str,
    marker: &str,
    what: &str,
) -> Result<(String, &'a str)> {
    let links: Vec<(usize, usize)> = html
        .match_indices(opening)
        .filter_map(|(start, _)| {
            let end = start + html[start..].find('>')? + 1;
            html[start..end].contains(marker).then_some((start, end))
        })
        .collect();
    let [(start, end)] = links[..] else {
        return Err(format!(
            "dist/index.html has {} {what}, not the one trunk writes",
            links.len()
        ));
    };
    Ok((
        format!("{}{}", &html[..start], &html[end..]),
        &html[start..end],
    ))
}

pub(crate) fn files_with_extension(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| extensions.contains(&x))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Writes `file.br` (brotli -q 11, when the command exists) and `file.gz` (gzip -9) next to the
/// wasm, JS and CSS, which the server sends to browsers that accept them. A CDN may use them too,
/// or compress on its own.
fn precompress(dist: &Path) -> Result {
    let have_brotli = Command::new("brotli").arg("--version").output().is_ok();
    if !have_brotli {
        eprintln!("    (no `brotli` command: only gzip copies; apt-get install brotli)");
    }
    for path in files_with_extension(dist, &["wasm", "js", "css"])? {
        let mut outputs = vec![(
            "gz",
            Command::new("gzip")
                .args(["-9", "-n", "-c"])
                .arg(&path)
                .output(),
        )];
        if have_brotli {
            outputs.push((
                "br",
                Command::new("brotli")
                    .args(["-q", "11", "-c"])
                    .arg(&path)
                    .output(),
            ));
        }
        for (ext, output) in outputs {
            let output = output.map_err(|e| format!("compressing {}: {e}", path.display()))?;
            if !output.status.success() {
                return Err(format!("compressing {} ({ext}) failed", path.display()));
            }
            let mut target = path.clone().into_os_string();
            target.push(".");
            target.push(ext);
            std::fs::write(&target, output.stdout).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The SHA-384 of a file, in hex and in base64 (as Subresource Integrity writes it), computed
/// by node, which the npm tools already need; the task runner stays free of dependencies.
fn sha384(env: &tools::ToolEnv, file: &Path) -> Result<(String, String)> {
    let out = env
        .command("node")
        .args([
            "-e",
            "const c = require('crypto'), fs = require('fs');\
             const d = c.createHash('sha384').update(fs.readFileSync(process.argv[1])).digest();\
             process.stdout.write(d.toString('hex') + ' ' + d.toString('base64'))",
        ])
        .arg(file)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    match text.split_once(' ') {
        Some((hex, base64)) if out.status.success() && hex.len() == 96 => {
            Ok((hex.to_owned(), base64.to_owned()))
        }
        _ => Err(format!("node could not hash {}", file.display())),
    }
}

/// The two builds' files, raw, gzip -9 and brotli -q 11 (when the `brotli` command exists):
/// the first load is every .wasm, .js and .css that `index.html` names; the second build is
/// what `medecin.html` names, and what a doctor downloads after logging in is its part that
/// the first load did not already bring.
pub fn print_sizes(dist: &Path) -> Result {
    let files = files_with_extension(dist, &["wasm", "js", "css"])
        .map_err(|e| format!("{}: {e} (run `cargo xtask build` first)", dist.display()))?;
    let have_brotli = Command::new("brotli").arg("--version").output().is_ok();
    let named_in = |html: &str| -> Result<Vec<PathBuf>> {
        let text = std::fs::read_to_string(dist.join(html))
            .map_err(|e| format!("dist/{html}: {e} (run `cargo xtask build` first)"))?;
        Ok(files
            .iter()
            .filter(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| text.contains(n))
            })
            .cloned()
            .collect())
    };
    let first = named_in("index.html")?;
    let doctor = named_in(DOCTOR_HTML)?;
    let first_br = size_table(
        "Bundle, first load (index.html: the login page and a patient's pages)",
        &first,
        have_brotli,
    )?;
    if have_brotli {
        if first_br <= BUDGET {
            println!(
                "  budget {BUDGET} brotli: met, {} bytes to spare",
                BUDGET - first_br
            );
        } else {
            println!(
                "  budget {BUDGET} brotli: MISSED by {} bytes",
                first_br - BUDGET
            );
        }
    }
    size_table(
        "The second build (medecin.html: the doctor's pages, the account and documents pages)",
        &doctor,
        have_brotli,
    )?;
    let extra: Vec<PathBuf> = doctor.into_iter().filter(|f| !first.contains(f)).collect();
    size_table("  of which new after the first load", &extra, have_brotli)?;
    Ok(())
}

/// Prints one table; returns its brotli total (0 without brotli).
fn size_table(title: &str, files: &[PathBuf], have_brotli: bool) -> Result<u64> {
    println!("\n{title}:");
    println!(
        "  {:<44} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    let (mut raw_total, mut gz_total, mut br_total) = (0u64, 0u64, 0u64);
    for file in files {
        let raw = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
        let gz = compressed_len(Command::new("gzip").args(["-9", "-c"]).arg(file))?;
        let br = if have_brotli {
            compressed_len(Command::new("brotli").args(["-q", "11", "-c"]).arg(file))?
        } else {
            0
        };
        raw_total += raw;
        gz_total += gz;
        br_total += br;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "  {:<44} {:>10} {:>10} {:>10}",
            name,
            raw,
            gz,
            if have_brotli {
                br.to_string()
            } else {
                "n/a".into()
            }
        );
    }
    println!(
        "  {:<44} {:>10} {:>10} {:>10}",
        "total",
        raw_total,
        gz_total,
        if have_brotli {
            br_total.to_string()
        } else {
            "n/a (apt-get install brotli)".into()
        }
    );
    Ok(br_total)
}

fn compressed_len(cmd: &mut Command) -> Result<u64> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed"));
    }
    Ok(out.stdout.len() as u64)
}
