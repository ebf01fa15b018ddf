import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PAGE_DEFAULT, PAGE_MAX } from './keyset';

/** An empty query value (`?email=`, `?tenant_id=`) means no filter, as a form or a query builder may send it. */
export const emptyToUndefined = ({ value, obj, key }: { value: unknown; obj: Record<string, unknown>; key: string }) =>
  obj?.[key] === '' ? undefined : value;

/** `?limit=&cursor=` of a list read a page at a time; lists extend it with their own filters. */
export class KeysetPageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: PAGE_MAX, default: PAGE_DEFAULT })
  @Transform(emptyToUndefined)
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed' })
  cursor?: string;
}
