fn main() -> std::process::ExitCode {
    tritonsh::cli::main()
}
