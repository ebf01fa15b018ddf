import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { SecretBox } from '#libs/common';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

@Global()
@Module({
  imports: [ConfigModule.forRoot({ validate: validateEnvironment, cache: true, ignoreEnvFile: false })],
  providers: [
    { provide: AppConfig, useFactory: () => new AppConfig() },
    // Encrypts third-party keys at rest (AES-256-GCM under ENCRYPTION_KEY; ENCRYPTION_KEY_PREVIOUS while rotating).
    {
      provide: SecretBox,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new SecretBox(config.encryptionKey, config.previousEncryptionKey),
    },
  ],
  exports: [AppConfig, SecretBox],
})
export class AppConfigModule {
  /** Serves the configuration its caller already validated (the server's start-up), rather than reading the environment again. */
  static forConfig(config: AppConfig): DynamicModule {
    return { module: AppConfigModule, providers: [{ provide: AppConfig, useValue: config }] };
  }
}
