// Imported by main.jsonnet, never rendered on its own.
{
  name: 'guestbook-ui',
  greeting: 'hello from jsonnet',
}
