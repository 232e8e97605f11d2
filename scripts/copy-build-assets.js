// Copies the files the compiled code reads beside itself (the gRPC .proto, the SQL migrations)
// from src/ to dist/: tsc emits only what it compiles.
import { cpSync } from 'node:fs';

cpSync('src/api/grpc/grpc_predict_v2.proto', 'dist/api/grpc/grpc_predict_v2.proto');
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
