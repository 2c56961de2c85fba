// The built-in capability library and the local example are embedded with
// include_dir; tell cargo to rebuild when files are added to those folders too.
fn main() {
    for dir in ["capabilities", "templates", "examples/local"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
