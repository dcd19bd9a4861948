fn main() {
    plumbline_app::run()
}
