// pouchdb-adapter-memory ships no types and DefinitelyTyped has none for 9.x:
// it is a plugin like the others.
declare module 'pouchdb-adapter-memory' {
  const plugin: PouchDB.Plugin;
  export = plugin;
}
