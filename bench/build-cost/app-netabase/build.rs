fn main() -> Result<(), netabase_build::Error> {
    netabase_build::compile("users.toml")
}
