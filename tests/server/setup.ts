// Server tests build their own AppContext; nothing may fall back to the developer's database.
process.env.DATABASE_URL = 'file::memory:';
